// CopyEngine module.
