"""Services as the running daemon provides them: the CLI's state-changing commands go through
the daemon when it runs, so the store has one writer, and alone when it does not."""
