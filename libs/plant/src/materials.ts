import type { MachineKind } from './catalogue.js';

/** A quality characteristic checked on a part, in millimetres. */
export interface Characteristic {
  id: string;
  nominal: number;
  /** Symmetric tolerance: LSL = nominal - tolerance, USL = nominal + tolerance. */
  tolerance: number;
}

/** An item the plants make: the ERP item (MTL_SYSTEM_ITEMS_B.SEGMENT1) the MES orders refer to. */
export interface Material {
  id: string;
  description: string;
  /** The machines that make it. */
  kind: MachineKind;
  /** Seconds per part at the ideal rate (the standard of run-time-based performance). */
  idealCycleTimeS: number;
  characteristic: Characteristic;
}

const spec = (kind: MachineKind, items: [number, string, number, Characteristic][]): Material[] =>
  items.map(([n, description, idealCycleTimeS, characteristic]) => ({
    id: `AUR-${n}`,
    description,
    kind,
    idealCycleTimeS,
    characteristic,
  }));

/** The fixed material catalogue: four items per machine kind. */
export const MATERIALS: readonly Material[] = [
  ...spec('press', [
    [10011, 'Bracket, steel, pressed 2 mm', 6, { id: 'hole_spacing', nominal: 48, tolerance: 0.1 }],
    [10012, 'Cover plate, pressed', 8, { id: 'flatness', nominal: 0.2, tolerance: 0.15 }],
    [10013, 'Mounting flange, deep drawn', 12, { id: 'flange_height', nominal: 22.5, tolerance: 0.2 }],
    [10014, 'Housing shell, pressed', 15, { id: 'wall_thickness', nominal: 2.5, tolerance: 0.08 }],
  ]),
  ...spec('cnc_mill', [
    [10021, 'Gear housing, milled', 240, { id: 'bore_diameter', nominal: 62, tolerance: 0.015 }],
    [10022, 'Valve block, milled', 180, { id: 'bore_diameter', nominal: 18, tolerance: 0.012 }],
    [10023, 'Bearing seat, milled', 150, { id: 'seat_depth', nominal: 14, tolerance: 0.02 }],
    [10024, 'Pump plate, milled', 120, { id: 'flatness', nominal: 0.02, tolerance: 0.015 }],
  ]),
  ...spec('lathe', [
    [10031, 'Drive shaft, turned', 90, { id: 'outer_diameter', nominal: 25, tolerance: 0.01 }],
    [10032, 'Spindle, turned', 110, { id: 'outer_diameter', nominal: 32, tolerance: 0.012 }],
    [10033, 'Bushing, turned', 45, { id: 'inner_diameter', nominal: 12, tolerance: 0.008 }],
    [10034, 'Threaded pin, turned', 30, { id: 'length', nominal: 60, tolerance: 0.05 }],
  ]),
  ...spec('welding_robot', [
    [10041, 'Frame, welded', 300, { id: 'seam_width', nominal: 6, tolerance: 0.8 }],
    [10042, 'Bracket assembly, welded', 120, { id: 'seam_width', nominal: 4, tolerance: 0.6 }],
    [10043, 'Base plate, welded', 200, { id: 'diagonal', nominal: 850, tolerance: 1 }],
    [10044, 'Tube assembly, welded', 90, { id: 'seam_width', nominal: 3, tolerance: 0.5 }],
  ]),
  ...spec('paint_line', [
    [10051, 'Housing, powder coated', 20, { id: 'coating_thickness', nominal: 0.08, tolerance: 0.02 }],
    [10052, 'Cover, wet painted', 15, { id: 'coating_thickness', nominal: 0.06, tolerance: 0.015 }],
    [10053, 'Frame, KTL primed', 30, { id: 'coating_thickness', nominal: 0.025, tolerance: 0.007 }],
    [10054, 'Panel, powder coated', 12, { id: 'coating_thickness', nominal: 0.07, tolerance: 0.02 }],
  ]),
  ...spec('assembly_cell', [
    [10061, 'Gearbox, assembled', 420, { id: 'backlash', nominal: 0.12, tolerance: 0.04 }],
    [10062, 'Pump unit, assembled', 300, { id: 'gap', nominal: 0.5, tolerance: 0.1 }],
    [10063, 'Valve unit, assembled', 180, { id: 'gap', nominal: 0.3, tolerance: 0.08 }],
    [10064, 'Sensor module, assembled', 60, { id: 'connector_offset', nominal: 1.5, tolerance: 0.2 }],
  ]),
];

const byKind = new Map<MachineKind, Material[]>();
for (const m of MATERIALS) byKind.set(m.kind, [...(byKind.get(m.kind) ?? []), m]);

export const materialsFor = (kind: MachineKind): readonly Material[] => byKind.get(kind) ?? [];
export const material = (id: string): Material | undefined => MATERIALS.find((m) => m.id === id);
