export { every, type Schedule } from './every.ts'
export { startEmbeddedJobs, type EmbeddedJobOptions } from './embedded.ts'
export { JOB_QUEUE, openJobQueue, SCHEDULE_QUEUE, startBullmqJobs, type BullmqJobOptions } from './bullmq.ts'
export { scheduledTasks, type ScheduledTask, type ScheduleIntervals } from './schedules.ts'
