// FIXMessages module.
