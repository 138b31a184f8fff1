"""The Plan Pharmaceutique Personnalisé: from an analysis to the plan the RCP reviews."""
