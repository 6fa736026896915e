"""IMAP/SMTP/MIME helpers with no ORM import, testable on their own."""
