// FIXTransport module.
