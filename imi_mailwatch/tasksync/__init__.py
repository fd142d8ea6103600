"""Keeping a request and its task in step, both ways.

- :mod:`.readback`: the periodic status read-back. The document of each open
  request is read in Corsa; completed there is BEANTWOORD through the desk (the
  reminders stop, the beheerders hear), moved to another unit there and the
  request follows (HERROUTEER through the desk, so the reminders follow and it is
  in the history).
- :mod:`.actions`: the task outbox's actions besides creating and annotating a
  task, handed to it by the wiring.
- :mod:`.reroute`: the task outbox's ``reroute`` action. HERROUTEER moves the
  Corsa document to the new team's unit; where the installation does not allow
  that, the beheerders get a Dutch mail saying what to move in Corsa.
- :mod:`.ports`: what a task sink offers for this (Corsa does; the drop folder
  and the intake mailbox do not).
"""
