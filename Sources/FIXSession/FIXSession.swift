// FIXSession module.
