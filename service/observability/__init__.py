"""Operating the service: Prometheus metrics, structured logs, what the database says about queues."""
