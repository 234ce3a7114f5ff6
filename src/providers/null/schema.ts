// null output settings (none): loadable without the provider.
import { configObject } from "../../sdk/config.ts";

export const nullConfigSchema = configObject({});
