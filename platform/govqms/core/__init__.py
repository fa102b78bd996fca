"""Cross-cutting machinery: database base, tenancy, permissions, activity log, i18n, security."""
