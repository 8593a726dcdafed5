import { useApiMutation } from "./mutation";
import { useSignedInPlacesChanged } from "./sessions";

/** Forgets a known device: its "don't ask for a code" trust ends with it. */
export function useForgetDevice() {
  const changed = useSignedInPlacesChanged();
  return useApiMutation(
    (client, id: string) => client.DELETE("/api/v1/account/devices/{id}", { params: { path: { id } } }),
    { onSettled: () => void changed() },
  );
}
