import { startFrankfurter } from "./fakes/frankfurter.js";
import type { Fake } from "./fakes/http.js";
import { type MetFake, startMet } from "./fakes/met.js";
import { startGeocoding } from "./fakes/open-meteo.js";
import { BOT_TOKEN, startTelegram, type TelegramFake } from "./fakes/telegram.js";
import { CONSUMER_KEY, CONSUMER_SECRET, startWooCommerce, type WooCommerceFake } from "./fakes/woocommerce.js";

export interface Upstreams {
  frankfurter: Fake;
  met: MetFake;
  geocoding: Fake;
  woo: WooCommerceFake;
  telegram: TelegramFake;
  /** The settings that point every toolset of waiter at these fakes; the channel "team" tells `chats`. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** The fakes of the upstreams every toolset calls, started: the ECB's rates, the weather, a shop and Telegram. */
export async function startUpstreams(chats = ["-1001234567800"]): Promise<Upstreams> {
  const [frankfurter, met, geocoding, woo, telegram] = await Promise.all([
    startFrankfurter(),
    startMet(),
    startGeocoding(),
    startWooCommerce(),
    startTelegram(chats),
  ]);
  const env = {
    WAITER_FRANKFURTER_URL: `${frankfurter.origin}/v1`,
    WAITER_CONTACT: "ops@waiter.cz",
    WAITER_WOO_URL: woo.origin,
    WAITER_WOO_KEY: CONSUMER_KEY,
    WAITER_WOO_SECRET: CONSUMER_SECRET,
    WAITER_MET_URL: `${met.origin}/weatherapi`,
    WAITER_GEOCODING_URL: `${geocoding.origin}/v1`,
    WAITER_NOTIFY_CHANNELS: JSON.stringify({
      team: { type: "telegram", botTokenEnv: "TELEGRAM_BOT_TOKEN", chatIds: chats, baseUrl: telegram.origin },
    }),
    TELEGRAM_BOT_TOKEN: BOT_TOKEN,
  };
  const close = async () => {
    await Promise.all([frankfurter, met, geocoding, woo, telegram].map((fake) => fake.close()));
  };
  return { frankfurter, met, geocoding, woo, telegram, env, close };
}
