"""Generation-side monitoring: plants that feed miners through a private line (clause 五)."""
