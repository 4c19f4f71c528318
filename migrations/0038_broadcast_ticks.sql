-- One chain of ticks per broadcast. The watch used to queue a tick on every look (30 s)
-- while a broadcast ran, and each started a chain of its own: a broadcast waiting hours for
-- its recipients' local times gathered one more delayed tick per look, all run at each due
-- moment. Now every tick queued as a broadcast's sender takes the next number (tick_gen) and a
-- tick whose number is no longer the broadcast's stops; tick_due (by the clock of schedules,
-- ms) says when the current tick should have looked in at the latest, and the watch queues a
-- tick in its place (of the same number) only after it.
ALTER TABLE broadcasts ADD COLUMN tick_gen INTEGER NOT NULL DEFAULT 0;
ALTER TABLE broadcasts ADD COLUMN tick_due INTEGER NOT NULL DEFAULT 0;
