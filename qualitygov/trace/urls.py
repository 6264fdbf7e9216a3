from qualitygov.trace import urls_capture, urls_recall, urls_trace

app_name = "trace"

# Each area of the trace module keeps its pages in its own URL module.
urlpatterns = [*urls_capture.urlpatterns, *urls_trace.urlpatterns, *urls_recall.urlpatterns]
