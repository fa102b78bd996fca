"""Signed webhooks: an agency or a jurisdiction subscribes a URL to events, and each event is delivered
as a job (with retries and a delivery log), signed with HMAC-SHA256 over the timestamp and the body."""
