"""PySide6 user interface: thin model/view code over the services. No SQL, no business rules."""
