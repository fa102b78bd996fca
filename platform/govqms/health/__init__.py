"""Health check for the load balancer, the container engine and monitoring: ``GET /healthz``."""
