"""hubtap's hardware layer: card readers, lock, door sensors, feedback.

Small interfaces with real and mock implementations chosen by
configuration. The readers, lock and sensors arrive with the hardware issue.
"""
