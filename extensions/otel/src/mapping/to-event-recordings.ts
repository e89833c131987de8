/**
 * The host's operational events as metric recordings: webhooks, messages, queue lanes, session
 * state and stuck sessions, heartbeat queue depth. Pure; garbage in, nothing out.
 */
import type { OperationalEvent } from "@clawscope/kit";
import { toLabelValue, toLaneLabel } from "./metric-labels.js";
import { METRICS, type MetricRecording } from "./metric-names.js";

/**
 * The recordings for one raw host event, or `[]` when it is not an event this extension maps or
 * a field it needs is missing or malformed. Never throws.
 */
export function toEventRecordings(event: OperationalEvent): MetricRecording[] {
  switch (event.type) {
    case "webhook.received":
    case "webhook.processed":
    case "webhook.error": {
      const labels = {
        "openclaw.channel": toLabelValue(event.channel),
        "openclaw.webhook": toLabelValue(event.updateType),
      };
      if (event.type === "webhook.received")
        return [{ name: METRICS.webhookReceived.name, value: 1, attributes: labels }];
      if (event.type === "webhook.error")
        return [{ name: METRICS.webhookError.name, value: 1, attributes: labels }];
      return event.durationMs === undefined
        ? []
        : [{ name: METRICS.webhookDuration.name, value: event.durationMs, attributes: labels }];
    }
    case "message.queued":
      return [
        {
          name: METRICS.messageQueued.name,
          value: 1,
          attributes: {
            "openclaw.channel": toLabelValue(event.channel),
            "openclaw.source": toLabelValue(event.source),
          },
        },
      ];
    case "message.processed": {
      const labels = {
        "openclaw.channel": toLabelValue(event.channel),
        "openclaw.outcome": toLabelValue(event.outcome),
      };
      const recordings: MetricRecording[] = [
        { name: METRICS.messageProcessed.name, value: 1, attributes: labels },
      ];
      if (event.durationMs !== undefined) {
        recordings.push({ name: METRICS.messageDuration.name, value: event.durationMs, attributes: labels });
      }
      return recordings;
    }
    case "queue.lane.enqueue":
    case "queue.lane.dequeue": {
      const lane = { "openclaw.lane": toLaneLabel(event.lane) };
      const recordings: MetricRecording[] = [
        { name: METRICS.queueDepth.name, value: event.queueSize, attributes: lane },
      ];
      if (event.type === "queue.lane.dequeue") {
        recordings.push({ name: METRICS.queueWait.name, value: event.waitMs, attributes: lane });
      }
      return recordings;
    }
    case "session.state":
      return [
        {
          name: METRICS.sessionState.name,
          value: 1,
          attributes: {
            "openclaw.state": toLabelValue(event.state),
            "openclaw.reason": toLabelValue(event.reason),
          },
        },
      ];
    case "session.stuck": {
      const state = { "openclaw.state": toLabelValue(event.state) };
      return [
        { name: METRICS.sessionStuck.name, value: 1, attributes: state },
        { name: METRICS.sessionStuckAge.name, value: event.ageMs, attributes: state },
      ];
    }
    case "diagnostic.heartbeat":
      // the official plugin's convention: heartbeat depth under channel "heartbeat"
      return [
        {
          name: METRICS.queueDepth.name,
          value: event.queued,
          attributes: { "openclaw.channel": "heartbeat" },
        },
      ];
    default:
      // session.stalled: a span and a log record, no metric (the official plugin counts only stuck)
      return [];
  }
}
