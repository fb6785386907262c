import "server-only";
import { createModelStorage, modelStorageConfigFromEnv, type ModelStorage } from "@goat/contracts/model-storage";
import { env } from "./env";

const globalForStorage = globalThis as unknown as { goatModelStorage?: ModelStorage };

/** The model storage backend chosen by configuration (STORAGE_BACKEND). */
export function modelStorage(): ModelStorage {
  globalForStorage.goatModelStorage ??= createModelStorage(modelStorageConfigFromEnv(env()));
  return globalForStorage.goatModelStorage;
}
