"""`token-roi dashboard`: a local web page over the ledger (server.py, api.py, static/).

It shows what the library computes (reports, accounting, pricing, value); it computes nothing
of its own. Loopback only unless a host is given; works offline (Chart.js is vendored).
"""
