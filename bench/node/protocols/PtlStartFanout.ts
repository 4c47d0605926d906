export interface ReqStartFanout {
    m: number;
}

export interface ResStartFanout {
}
