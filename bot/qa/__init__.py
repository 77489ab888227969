"""Question answering: the knowledge base, segmentation, matching, safety checks and replies."""
