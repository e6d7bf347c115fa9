import type { RegistryInfo } from './adapter.js';
import { DockerRegistryAdapter } from './docker-registry.js';

/**
 * `azure-acr`: Azure Container Registry (`<name>.azurecr.io`). The admin user (or a service principal
 * id and secret) is exchanged at ACR's `/oauth2/token` realm for a scoped token when the registry
 * challenges with Bearer; repositories come from `/v2/_catalog`, which ACR serves to authorized users.
 */
export class AzureAcrAdapter extends DockerRegistryAdapter {
  override readonly type: string = 'azure-acr';

  override info(): RegistryInfo {
    return { ...super.info(), supportedCopyByChunk: false };
  }
}
