-
after-dash
