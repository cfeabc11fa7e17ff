/** The router's data plane dying this many times within DATA_PLANE_DEATH_WINDOW_MS pauses the release (data-plane.ts, reduce.ts). */
export const DATA_PLANE_DEATHS_TO_PAUSE = 3;
export const DATA_PLANE_DEATH_WINDOW_MS = 60_000;
