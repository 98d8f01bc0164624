import type { DeploySettings } from './params';

/** The alarms of resources/alarms.yml: where they notify, and the registration lag that raises one. */

/** AlarmActions and OKActions of every alarm: the SNS topic, or none (alarms only change state). */
export const alarmActions = (s: DeploySettings): string[] => (s.alarmTopicArn ? [s.alarmTopicArn] : []);

/** The p90 registration lag (ms) that raises the RegistrationLag alarm. */
export const registrationLagAlarmMs = (s: DeploySettings): number => s.registrationLagAlarmMs;
