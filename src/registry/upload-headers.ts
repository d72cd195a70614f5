import { urls } from "../oci/distribution-routes.js";

/** Location, Range and Docker-Upload-UUID of an upload session, as every upload answer carries them. */
export function uploadHeaders(name: string, uuid: string, size: number): Record<string, string> {
  return {
    Location: urls.upload(name, uuid),
    Range: `0-${size > 0 ? size - 1 : 0}`,
    "Docker-Upload-UUID": uuid,
  };
}
