"use client";

import { useQueryClient, type QueryKey } from "@tanstack/react-query";
import { useEffect, useState } from "react";

/**
 * Live status: listens to /api/bouncers/events and refetches `queryKey` when one of the user's
 * bouncers changed (or changes may have been missed). Returns whether the stream is live, so
 * the caller polls slowly while it is and quickly while it is not (no EventSource, a proxy that
 * drops streams, the server's feed down).
 */
export function useLiveStatus(queryKey: QueryKey): boolean {
  const queryClient = useQueryClient();
  const [live, setLive] = useState(false);
  // The key is stable per query; compare by value so an inline array does not reconnect.
  const keyText = JSON.stringify(queryKey);
  useEffect(() => {
    if (typeof EventSource === "undefined") return;
    const key = JSON.parse(keyText) as QueryKey;
    const source = new EventSource("/api/bouncers/events");
    const refetch = () => void queryClient.invalidateQueries({ queryKey: key });
    source.addEventListener("state", (event) => {
      const { live: feedLive } = JSON.parse((event as MessageEvent<string>).data) as {
        live: boolean;
      };
      setLive(feedLive);
    });
    source.addEventListener("change", refetch);
    // After a reconnection anything may have changed meanwhile.
    source.addEventListener("resync", refetch);
    source.addEventListener("open", refetch);
    source.addEventListener("error", () => setLive(false));
    return () => {
      source.close();
      setLive(false);
    };
  }, [keyText, queryClient]);
  return live;
}
