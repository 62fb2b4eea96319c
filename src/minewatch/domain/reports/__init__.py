"""Public reports (举报, notice 1283 clause 十二 and 十九): intake, receipt codes, triage."""
