export interface MsgGameFrame {
    frame: number;
    inputs: { player: number, x: number, y: number }[];
}
