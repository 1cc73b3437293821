# Versions pinned in one place for the parts that are not Python packages.
LAKEFS_VERSION="v1.84.0"
UV_VERSION="0.13.8"
