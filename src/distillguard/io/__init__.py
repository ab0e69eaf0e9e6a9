"""Read, validate, write and adapt traffic logs in the traffic-log-v1 format."""
