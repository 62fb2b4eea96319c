"""Network detectors: mining on the wire, from packet captures and flow records."""
