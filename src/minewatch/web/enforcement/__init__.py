"""The enforcement pages and API: measures, the surcharge list, screening, credit
(:mod:`minewatch.web.routers.enforcement` gathers their routers)."""
