"""Reports over the engine's results: a self-contained HTML report with Plotly charts.

``reports.html.write_html(ReportInput(...), path)`` writes one file that opens offline;
``reports.charts`` holds the figures it embeds.
"""
