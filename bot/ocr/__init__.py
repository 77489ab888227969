"""Reading the text in a picture offline and answering it as if it had been typed."""
