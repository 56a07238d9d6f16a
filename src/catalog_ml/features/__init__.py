"""Feature building shared by the approaches: text views, TF-IDF, brands, neighbours, caches and vector stores."""
