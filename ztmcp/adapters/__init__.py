"""Byte pumps that carry out the Session's decisions; they hold no policy of their own."""
