// CopyBridgeAgent module.
