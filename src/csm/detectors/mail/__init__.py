"""Mail detectors over Exim mainlog and Dovecot/Postfix lines (§4.2-4.3 of the reference)."""
