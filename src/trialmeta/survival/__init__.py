"""Digitised Kaplan-Meier figures: parsing and cleaning, the Guyot reconstruction, and the
survival analysis of reconstructed patient data (:mod:`trialmeta.survival.fit`, the one
lifelines importer)."""
