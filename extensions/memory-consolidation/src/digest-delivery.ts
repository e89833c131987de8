/**
 * Delivers each day's fleet digest once, by email and to Slack, through the kit's pipelines (spooled,
 * retried, `Retry-After` honoured). Exactly once rests on three things: the pipeline item's id is
 * the day and the channel; before sending, the gateway takes the store's lease on that pair and
 * reads `deliveries`, where a sent digest is recorded right after the backend accepted it; and the
 * digest is rendered from the stored consolidation at send time. So a digest already spooled when the
 * process restarts, offered again by the hourly sweep, or offered by two gateways of a fleet, is sent
 * by one of them, once. The one window left is a crash between the backend's acceptance and the
 * record (milliseconds): the email then goes again with the same Message-ID.
 */
import {
  describeError,
  type ExportPipeline,
  type ExportPipelineOptions,
  type PackLogger,
  type SendResult,
} from "@clawscope/kit";
import type { Store } from "@clawscope/store";
import type { Consolidation } from "./domain/consolidation.js";
import { toDigestEmail } from "./mapping/to-digest-email.js";
import { toSlackMessage } from "./mapping/to-slack-message.js";
import { FLEET } from "./store/consolidation-repository.js";
import type { PostSlack } from "./transport/slack-webhook.js";
import type { SendEmail } from "./transport/smtp-sender.js";

export type DigestChannel = "email" | "slack";

export type DeliveryRecord = {
  /** `<date>:<channel>`. */
  id: string;
  /** The consolidated day's start (epoch ms): retention counts from it. */
  ts: number;
  date: string;
  channel: DigestChannel;
  sentAt: number;
  gateway: string;
};

interface DigestItem {
  date: string;
}

const LEASE_MS = 5 * 60_000;
/**
 * Digests go out for days that ended this recently: a gateway back after a long outage consolidates
 * the days it missed, and mails the last two, not a week of old news; configuring a channel does not
 * mail the past either.
 */
const SWEEP_WINDOW_MS = 48 * 3_600_000;

export interface DigestDeliveryOptions {
  store: Store;
  /** This gateway's id: the lease holder and the sender on record. */
  gateway: string;
  email?: { send: SendEmail; from: string } | undefined;
  slack?: { post: PostSlack } | undefined;
  linkUrl?: string | undefined;
  createPipeline: <T>(
    name: string,
    options: Omit<ExportPipelineOptions<T>, "name" | "spoolDir" | "logger">,
  ) => ExportPipeline<T>;
  now: () => number;
  logger: Pick<PackLogger, "info" | "warn">;
}

export interface DigestDelivery {
  /** The channels configured. */
  readonly channels: readonly DigestChannel[];
  /** Queues the digests of the fleet consolidations of days that ended in the last 48 hours and are not sent. */
  sweep(): Promise<void>;
}

export function createDigestDelivery(options: DigestDeliveryOptions): DigestDelivery {
  const deliveries = options.store.collection<DeliveryRecord>("deliveries");
  const consolidations = options.store.collection<Consolidation>("consolidations");
  const senders: Partial<
    Record<DigestChannel, (record: Consolidation, signal: AbortSignal) => Promise<SendResult>>
  > = {};
  const { email, slack, linkUrl } = options;
  if (email) {
    senders.email = (record, signal) =>
      email.send(toDigestEmail(record, { from: email.from, ...(linkUrl ? { linkUrl } : {}) }), signal);
  }
  if (slack) {
    senders.slack = (record, signal) =>
      slack.post(toSlackMessage(record, linkUrl ? { linkUrl } : {}), signal);
  }
  const channels = Object.keys(senders) as DigestChannel[];
  // keys queued and not yet sent in this process: the sweep does not queue them twice
  const queued = new Set<string>();

  const deliverOne = async (
    channel: DigestChannel,
    date: string,
    signal: AbortSignal,
  ): Promise<SendResult> => {
    const key = `${date}:${channel}`;
    if (await deliveries.get(key)) return { kind: "ok" };
    const leaseName = `digest:${key}`;
    const lease = await options.store.acquireLease(leaseName, options.gateway, LEASE_MS);
    if (!lease.acquired) return { kind: "retry", reason: `digest ${key}: ${lease.holder} is sending it` };
    let release = true;
    try {
      if (await deliveries.get(key)) return { kind: "ok" };
      const record = await consolidations.get(`${FLEET}:${date}`);
      if (!record) {
        options.logger.warn(`digest ${key}: no consolidation of ${date} in the store; nothing to send`);
        return { kind: "ok" };
      }
      const result = await (senders[channel] as NonNullable<(typeof senders)[DigestChannel]>)(record, signal);
      if (result.kind !== "ok") return result;
      try {
        await deliveries.upsert([
          { id: key, ts: record.ts, date, channel, sentAt: options.now(), gateway: options.gateway },
        ]);
        options.logger.info(`digest ${key}: sent`);
      } catch (error) {
        // keep the lease to its end: nobody sends it again meanwhile, and the next sweep retries the record
        release = false;
        options.logger.warn(`digest ${key}: sent, but its record was not written (${describeError(error)})`);
      }
      return { kind: "ok" };
    } finally {
      if (release) await options.store.releaseLease(leaseName, options.gateway).catch(() => false);
    }
  };

  const pipelines = new Map<DigestChannel, ExportPipeline<DigestItem>>();
  for (const channel of channels) {
    pipelines.set(
      channel,
      options.createPipeline<DigestItem>(`digest-${channel}`, {
        maxBatchItems: 1,
        async send(items, signal) {
          for (const item of items) {
            const result = await deliverOne(channel, item.payload.date, signal);
            if (result.kind !== "ok") return result;
            queued.delete(item.id);
          }
          return { kind: "ok" };
        },
      }),
    );
  }

  const offer = (date: string, only?: DigestChannel) => {
    for (const [channel, pipeline] of pipelines) {
      if (only && channel !== only) continue;
      const key = `${date}:${channel}`;
      if (queued.has(key)) continue;
      queued.add(key);
      pipeline.enqueue(key, { date });
    }
  };

  return {
    channels,
    async sweep() {
      if (channels.length === 0) return;
      const now = options.now();
      const recent = await consolidations.find({
        where: { scope: FLEET },
        from: now - SWEEP_WINDOW_MS - 2 * 86_400_000,
      });
      for (const record of recent) {
        if (Date.parse(record.window.to) < now - SWEEP_WINDOW_MS) continue;
        for (const channel of channels) {
          if (queued.has(`${record.date}:${channel}`)) continue;
          if (!(await deliveries.get(`${record.date}:${channel}`))) offer(record.date, channel);
        }
      }
    },
  };
}
