"""The command line: parse, call one service, render.  No SQL, regex or subprocess here."""
