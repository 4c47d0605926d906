export interface ReqStartPush {
    n: number;
}

export interface ResStartPush {
}
