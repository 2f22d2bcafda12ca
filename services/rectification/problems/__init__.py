"""Problems (问题清单): entering, the lifecycle, assignment, evidence, history, statistics and the bulletin."""
