"""The steps the commands string together, each over one run context (`context.Run`).

A converge (mck/converge.py) is: preflight → plan → [scale-down] → provision → state →
inventory → [boot] → configure → probe → act → report. Failures of single nodes do not stop it:
each phase records them as per-node outcomes (`outcomes.NodeOutcome`) in the run context, and
the phases after it leave those nodes alone. Only a failure nothing can proceed past raises.
"""
