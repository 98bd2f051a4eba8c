"""Line parsers.  Each takes one raw line (bytes) and returns a typed event or None; a line that
does not parse is never an exception."""
