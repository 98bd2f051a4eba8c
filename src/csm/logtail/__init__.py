"""Reading logs: line formats (Exim mainlog, Dovecot/maillog) and files (plain, gzip, rotated)."""
