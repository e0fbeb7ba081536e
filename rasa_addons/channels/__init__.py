"""Input channels that connect the Rasa server to the rest of the product."""
