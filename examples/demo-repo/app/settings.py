"""Settings for the demo web app (deliberately insecure: a scanner fixture)."""

import os

DEBUG = os.environ.get("DEBUG", "0") == "1"
DATABASE_URL = os.environ.get("DATABASE_URL", "sqlite:///demo.db")

# Planted for the secrets scanner: a fake AWS key pair that must never be echoed.
AWS_ACCESS_KEY_ID = "AKIA42CFSUOSG0WP8I8Z"
AWS_SECRET_ACCESS_KEY = "YVVA/jEnTYGUHe1Ldw6RxrrBR7RZ53l3a/rfzk1J"
