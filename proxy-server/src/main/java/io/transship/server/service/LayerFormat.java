package io.transship.server.service;

import io.transship.converter.LayerTranscoder;

/**
 * One way of converting layers, with fixed settings.
 *
 * @param name the format name clients select ({@code zstd})
 * @param settingsKey identifies everything that affects the converted bytes; conversions are
 *     recorded and deduplicated under it
 * @param transcoder the converter
 * @param changesDiffIds whether the uncompressed tar changes (eStargz adds a TOC), so the image
 *     config's {@code rootfs.diff_ids} must be rewritten
 */
record LayerFormat(
    String name, String settingsKey, LayerTranscoder transcoder, boolean changesDiffIds) {}
