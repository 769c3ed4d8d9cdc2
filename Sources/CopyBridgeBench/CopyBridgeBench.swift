// CopyBridgeBench module.
